"""The study database: sites, users, subjects, consent, visits, CRFs, queries, audit, signatures."""

"""Study users, their roles and sites, passwords and logins."""

"""The trial as data: its registry record (CT.gov API v2), its settings and schedule, its status."""

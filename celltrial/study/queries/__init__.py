"""Data queries: raised by edit checks or by monitors, answered by sites, closed or re-opened."""

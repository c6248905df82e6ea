"""Visits: the schedule of assessments per subject, windows, out-of-window and missed flags."""

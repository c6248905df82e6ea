"""Subjects: registration at screening, status, enrolment with subject numbers and the cap."""

"""The study itself as stored: its overall status and the row enrolment locks to keep the cap."""

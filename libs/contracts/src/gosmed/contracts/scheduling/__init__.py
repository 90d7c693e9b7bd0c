"""Scheduling: clinics' schedules, free slots, appointments."""

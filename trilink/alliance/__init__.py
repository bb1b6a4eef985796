"""The alliance's public record as data: meetings, statements, frameworks, exercises and
cadence commitments, with sources (:mod:`trilink.alliance.record`)."""

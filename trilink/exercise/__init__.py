"""Combined exercises on a multi-year plan: the programme as data
(:mod:`~trilink.exercise.programme`), scheduled by CP-SAT with an explanation of
conflicting constraints (:mod:`~trilink.exercise.schedule`), exported as iCalendar
(:mod:`~trilink.exercise.calendar`)."""

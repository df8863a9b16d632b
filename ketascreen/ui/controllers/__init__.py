"""The main window's controllers, one per duty; each a QObject with signals and no layout.

- :class:`~ketascreen.ui.controllers.document.DocumentController`: the document the form shows:
  open and save case files, import FHIR records, autosave the draft and offer drafts left by a
  crash, the unsaved-changes question.
- :class:`~ketascreen.ui.controllers.checklist.ChecklistController`: screen the form, show a
  signed checklist read-only, preview, print and export the checklist, amend.
- :class:`~ketascreen.ui.controllers.signing.SigningController`: sign the checklist, and store
  the signed screening in the records.
- :class:`~ketascreen.ui.controllers.session.SessionController`: sign in to and out of the
  records database, today's signed checklists, printing and the bedside double check.
- :class:`~ketascreen.ui.controllers.course.CourseController`: the course view and the main
  window's course entries; built in layers, :mod:`.course_view` (the course window, a course
  file opened and saved) and :mod:`.course_records` (a course stored in the records).

The main window keeps the widgets and the menus and connects the controllers' signals.
"""

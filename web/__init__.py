"""The pages the intake serves (all assets local, Chinese UI).

``index.html`` signs in and sends each role to its face: ``report.html`` (the
grid worker's mobile form, with an offline queue), ``console.html`` (a
department's live inbox) and ``centre.html`` (the command centre). ``app.js``
is what they share.
"""

"""Pages: the workbenches of every role and the citizen portal (docs/web.md).

Views are thin: they read the form, call the same ``cases.actions.do_*`` the API
calls, and render. Nothing here writes a model directly.
"""

"""The web portal: the second face over the verbs of qrecords/api, beside the CLI.

It does what a face does and nothing more: it proves who acts (a login session of the
catalog, api/sessions.py), opens one unit of work per request (Workspace.open), calls a verb,
and renders the result as HTML (Jinja2 templates, Chinese first with English beside it). Every
rule — roles, masking, workflow, retention — is enforced below it, once.

htmx 2.0.11 (BSD Zero Clause licence) is vendored in static/, so the portal works on a plant
network without internet; no page has an inline script or style (the Content-Security-Policy
forbids them).
"""

from .app import create_app

__all__ = ["create_app"]

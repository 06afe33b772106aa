"""Rendering: the template context, DOCX (docxtpl); PDF and finishing come later."""

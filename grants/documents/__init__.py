"""The PDFs the app produces: review packets for reviewers and officers, and audit records.

Each module gathers what one document shows from the frozen submission and the review trail,
renders a template from templates/pdf/ and hands the HTML to `grants.rendering`, which runs
WeasyPrint in a separate, limited process that can only read the app's static files.
"""

"""WTForms: static forms and the builder that turns program steps into form classes."""

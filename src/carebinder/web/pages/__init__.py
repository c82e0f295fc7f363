"""The pages of the web face, one module per noun of the binder (as cli/ has one per
command). Each module's `pages` holds its routes; web/app.py lists the modules."""

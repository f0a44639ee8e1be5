"""Pages of the HR desk, one module per area: manual add, the desk (paper forms and the
bulk import), oversight."""

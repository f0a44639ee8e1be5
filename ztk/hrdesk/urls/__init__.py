"""URLconfs of the HR desk, one module per mount: /hr/manual/, /hr/desk/, /hr/oversight/."""

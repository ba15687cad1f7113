"""WTForms forms, one module per area; validation messages are shown beside each field."""

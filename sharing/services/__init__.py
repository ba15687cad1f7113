"""Domain services: what the pages, the API and the command line ask for, and who may do it."""

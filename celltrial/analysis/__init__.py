"""Pure analyses: response, endpoints, survival, CAR-T kinetics, stopping rules."""

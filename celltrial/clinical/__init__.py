"""Pure clinical calculators: units, CTCAE, ASTCT CRS/ICANS, BSA, dosing, ISBT 128."""

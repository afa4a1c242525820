"""City figures, travel times and zones, each figure with its source (CSV files)."""

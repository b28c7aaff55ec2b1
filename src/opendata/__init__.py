"""opendata: Chinese government budget disclosures as validated open data."""

__version__ = "0.1.0"

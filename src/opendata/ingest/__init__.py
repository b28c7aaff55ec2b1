"""Ingest: turn a report (text or PDF) into rows of the data package.

``importer.import_report`` is the entry point; ``narrative`` parses the 情况说明 text,
``classify`` maps 类(款)(项) name paths to codes, ``pdf_tables`` reads attached tables.
"""

"""The sensor: match network telemetry against shared STIX 2.1 indicators and report sightings (issue 3).

See docs/sensor.md for the design and docs/benchmarks.md ("Sensor matching") for measured figures.
"""

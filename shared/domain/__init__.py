"""The domain core: the county (units, routing table, places) and the working-day calendar.

Plain code and packaged data with no I/O beyond reading the packaged files; every service depends on
it and none on another service.
"""

"""The domain core: the county (units, routing table, places), the matter catalogue and the 派单
decision, and the working-day calendar.

Plain code and packaged data with no I/O beyond reading the packaged files; every service depends on
it and none on another service.
"""

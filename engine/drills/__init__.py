"""Drills: the real runbooks run against a scenario of simulated responders (or real people,
marked as a drill), measured against their targets, with reports and schedules."""

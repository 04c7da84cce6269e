"""Renderings of run results: the terminal table (HTML leaderboard and JUnit XML to come)."""

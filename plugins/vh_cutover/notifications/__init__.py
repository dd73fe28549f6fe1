"""Telling the plan's owners, in Chinese, when something is theirs."""

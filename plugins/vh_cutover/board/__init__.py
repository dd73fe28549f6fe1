"""
The cutover board: one page per run with every step, its owners, its state, the gates that wait
for someone and the changes made so far. Served by the api-server under ``/cutover-board``.
"""

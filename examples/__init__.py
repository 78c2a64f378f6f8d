"""Runnable examples of dynagen: the demo (``make demo``) and the payments Lambda function."""

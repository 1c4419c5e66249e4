"""What a person reads: terminal summary and the HTML report."""

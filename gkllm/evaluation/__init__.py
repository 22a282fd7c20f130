"""The eval harness: score extraction modes against gold fixtures."""

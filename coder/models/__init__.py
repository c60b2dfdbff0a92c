"""Model backends behind one Protocol."""

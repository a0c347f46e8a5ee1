"""backprop-lab's terminal app (Textual). Talks to ``engine`` only through the Trainer."""

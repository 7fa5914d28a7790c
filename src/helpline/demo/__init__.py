"""The demo organisation `helpline demo` seeds: people, customers, conversations."""

"""Everything that puts events into Kafka: the HTTP intake and the district simulator."""

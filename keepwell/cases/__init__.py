"""Cases: problems a customer raised, tracked to a resolution the customer confirms."""

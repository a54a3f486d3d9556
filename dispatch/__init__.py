"""The dispatcher's world: contracts and promise policies, sites, engineers, tickets."""

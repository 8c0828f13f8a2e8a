"""Staff of the stores: seats, one-time invites, binding a staff mini-program openid, login sessions."""

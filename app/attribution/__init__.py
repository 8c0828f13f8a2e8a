"""Staff attribution (issue 17): mini-program code scenes, who brought a customer to a store, and the seat an
order carries. The commission ledger built on it is `app.commission`."""

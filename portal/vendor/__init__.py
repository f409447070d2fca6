"""The vendor workbench at /vendor/: vendor staff without an IT team work their assigned
requests in the browser. Every action calls the services the vendor API calls
(``bookings.vendors``), with the same isolation (another vendor's request is 404) and the
same idempotency (each form carries its own key; a double submit applies once)."""

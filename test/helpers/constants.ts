/** The HS256 secret the workers test project hands to the worker; tests mint tokens with it. */
export const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789";

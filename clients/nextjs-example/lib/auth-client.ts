/** Better Auth in the browser, with the JWT plugin's client: `authClient.token()` gives the API token. */
import { jwtClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({ plugins: [jwtClient()] });

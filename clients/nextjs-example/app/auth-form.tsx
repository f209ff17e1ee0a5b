"use client";
/** The sign-up and sign-in form: Better Auth's email and password, errors next to their field. */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { authClient } from "@/lib/auth-client";

type Field = "name" | "email" | "password" | "form";

/** Which field a Better Auth error code is about. */
function fieldOf(code: string | undefined): Field {
  if (!code) return "form";
  if (code.includes("PASSWORD")) return "password";
  if (code.includes("EMAIL") || code.includes("USER_ALREADY_EXISTS")) return "email";
  if (code.includes("NAME")) return "name";
  return "form";
}

export function AuthForm({ mode }: { mode: "sign-up" | "sign-in" }) {
  const router = useRouter();
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setErrors({});
    const { error } =
      mode === "sign-up"
        ? await authClient.signUp.email({ name: String(form.get("name") ?? ""), email, password })
        : await authClient.signIn.email({ email, password });
    setBusy(false);
    if (error) {
      setErrors({ [fieldOf(error.code)]: error.message ?? error.statusText });
      return;
    }
    router.replace("/tasks");
    router.refresh();
  }

  const error = (field: Field) =>
    errors[field] ? (
      <p className="field-error" data-testid={`error-${field}`} role="alert">
        {errors[field]}
      </p>
    ) : null;

  return (
    <main className="auth">
      <h1>{mode === "sign-up" ? "Create an account" : "Sign in"}</h1>
      <form onSubmit={submit} noValidate>
        {mode === "sign-up" && (
          <label>
            Name
            <input name="name" autoComplete="name" required />
            {error("name")}
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
          {error("email")}
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
            required
          />
          {error("password")}
        </label>
        {error("form")}
        <button type="submit" disabled={busy}>
          {mode === "sign-up" ? "Sign up" : "Sign in"}
        </button>
      </form>
      <p>
        {mode === "sign-up" ? (
          <>
            Have an account? <Link href="/sign-in">Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/sign-up">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}

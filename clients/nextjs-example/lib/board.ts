/**
 * The listing the task board shows, written once for the server component (the first render)
 * and the client component (the hooks), so that both use the same query and its cache entry: one
 * list's top-level tasks (`list_id`, `parent_id=none`), in the user's order (`sort=position`).
 */
import type { TaskStatus } from "@todo-api/client";

export function boardQuery(list: number | null, status: TaskStatus = "all", tag = "") {
  return {
    status,
    ...(tag ? { tag: [tag] } : {}),
    list_id: list === null ? "inbox" : String(list),
    parent_id: "none",
    sort: "position" as const,
  };
}

// Uses the types openapi-typescript generated from /openapi.json (lintel-api.d.ts beside this
// file in the build tree): tsc --strict must accept the right shapes and refuse the wrong ones.
import type { components, paths } from "./lintel-api";

type Number = components["schemas"]["Number"];
type NumberList = paths["/api/numbers"]["get"]["responses"][200]["content"]["application/json"];
type NewNumber = NonNullable<paths["/api/numbers"]["post"]["requestBody"]>["content"]["application/json"];
type Task = components["schemas"]["Task"];
type Problem = components["schemas"]["Problem"];
type PointsQuery = NonNullable<paths["/api/datapoints"]["get"]["parameters"]["query"]>;
type Login = paths["/api/auth/login"]["post"]["responses"][200]["content"]["application/json"];

const n: Number = { id: 1, value: 42.5, created_at: "2024-04-22T15:07:57Z", updated_at: "2024-04-22T15:07:57Z" };
export const list: NumberList = { items: [n], total: 1, limit: 100, offset: 0 };
export const body: NewNumber = { value: 7 };
export const task: Task = { id: 2, title: "Buy milk", description: "", done: false,
  created_at: "2024-04-22T15:07:57Z", updated_at: "2024-04-22T15:07:57Z" };
export const problem: Problem = { type: "about:blank", title: "Unprocessable Content", status: 422,
  errors: [{ field: "value", message: "must be greater than 0" }] };
export const query: PointsQuery = { start: "2024-04-22T00:00:00Z", limit: 5 };
export const token = (l: Login): string => l.access_token;

// The types are not `any`: each of these is an error tsc must report.
// @ts-expect-error value is a number
export const badBody: NewNumber = { value: "7" };
// @ts-expect-error done is a boolean
export const badTask: Task = { ...task, done: "no" };
// @ts-expect-error limit is an integer query parameter
export const badQuery: PointsQuery = { limit: "5" };
// @ts-expect-error a number has no title
export const noTitle = (x: Number) => x.title;

/** A plan as text (one operation a line, with its reason): what a dry run prints. */
export { formatPlan, type Plan } from '../planner/plan.js';

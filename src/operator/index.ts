/** Operator accounts and the console's API. */
export { Operators, type Operator, type OperatorRole } from './service.ts';
export { adminRoutes, authenticateChangingOperator, authenticateOperator, operatorCookie } from './routes.ts';
export { operatorErrors } from './errors.ts';

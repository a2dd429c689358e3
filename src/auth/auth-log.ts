/** A minimal logger (Fastify's and pino's fit). */
export interface AuthLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

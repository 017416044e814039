// A Platform API error as Heroku answers it: the status, Heroku's error id, the message, and for
// 404s the kind of resource that was not found. Thrown anywhere in the emulator, answered by the API.

export class HerokuError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }
}

export const notFound = (resource: string, message: string): HerokuError => new HerokuError(404, 'not_found', message, resource);
export const forbidden = (message: string): HerokuError => new HerokuError(403, 'forbidden', message);
export const invalidParams = (message: string): HerokuError => new HerokuError(422, 'invalid_params', message);

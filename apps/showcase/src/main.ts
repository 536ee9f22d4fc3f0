import { tour } from './tour.js';

tour((line) => console.log(line));
